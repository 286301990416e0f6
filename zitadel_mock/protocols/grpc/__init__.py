"""gRPC and gRPC-web: the RPCs framed as grpc-go and the grpc-web wrapper frame them."""
