"""Wire formats over the one domain core: each turns its requests into ``answers.Request``."""
