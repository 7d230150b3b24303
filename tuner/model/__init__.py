"""The model and its training, in `keras.*` alone: `params` (plain data), `network` (one
LSTM, one Dense), `training` (build and fit as a trial does) and `epochs` (what a fit did,
epoch by epoch), `backend` (JAX or TensorFlow); and `baseline`, LightGBM on lag features,
the strong baseline beside persistence (no Keras).
"""
