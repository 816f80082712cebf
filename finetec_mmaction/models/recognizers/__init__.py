from .recognizer_finetec import RecognizerFineTec

__all__ = ['RecognizerFineTec']
