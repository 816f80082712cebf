"""Deployment: ONNX export of the recognizers (needs the ``deploy`` extra;
not imported by ``import finetec_mmaction``)."""
from .onnx_export import (ScoreModel, benchmark_latency, compare_scores,
                          dataset_inputs, example_input, export_onnx,
                          input_shape, onnx_session)

__all__ = ['ScoreModel', 'benchmark_latency', 'compare_scores',
           'dataset_inputs', 'example_input', 'export_onnx', 'input_shape',
           'onnx_session']
