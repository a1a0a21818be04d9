"""Pure array algorithms of the calibration steps, one sub-package per step family."""
