"""numba kernels: pure functions on arrays (DESIGN §3.1). Import nothing but numpy and numba."""
