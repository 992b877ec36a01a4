"""The span reader: training windows, training, export, and the ONNX reader used at ask time.

Only `onnx_reader`, `tokens`, `windows` and `bounds` run when answering; `examples`,
`train`, `export` and `evaluate` are for making and measuring the model (torch needed).
"""
