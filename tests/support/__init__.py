"""What many test folders share: free loopback ports, waiting for a condition, a real
`sabamon server` process, and reading /metrics."""
