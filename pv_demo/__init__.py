"""`pv-media demo`: the simulated world collected by the real pipeline. Depends on pv_assets and the
simulator; neither the runtime nor the simulator imports it."""
