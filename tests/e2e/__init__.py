"""The Helm chart on a real node: kubelet, containerd and runc running the project's own images."""
