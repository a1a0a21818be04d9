"""IPC step: deconvolve inter-pixel capacitance with a small kernel."""

from .ipc import apply_ipc, ipc_kernel_slice, ipc_ref_pixels

__all__ = ["apply_ipc", "ipc_kernel_slice", "ipc_ref_pixels"]
