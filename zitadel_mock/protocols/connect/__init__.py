"""The Connect protocol (unary, JSON and binary) of the v2 RPCs, as connect-go serves them."""
