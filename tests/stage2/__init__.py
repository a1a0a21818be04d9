"""End-to-end stage-2 parity tests (jwcal image2 vs jwst Image2Pipeline on simulated exposures)."""
