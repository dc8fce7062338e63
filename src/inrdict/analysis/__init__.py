"""Reading an INR as a dictionary: the lens (`lens`: NTK spectrum → energy concentration → learnability, and
`analyse`), energy on eigenvectors (`alignment`), frequency support (`spectrum`), Theorem 1 (`theory`)."""
