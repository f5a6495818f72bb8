"""obscode: observational coding and fidelity rating for clinical trials."""
