//! The Linux backend: quai's own container runtime (namespaces, overlayfs, cgroups),
//! its image store (an OCI image layout) and its supervisor. Compiled only on Linux.
//! System calls live in a thin layer here; the rest is ordinary code.
