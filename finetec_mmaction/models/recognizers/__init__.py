from .recognizer_finetec import RecognizerFineTec
from .restoration_cache import (RestorationCache, active_restoration_cache,
                                module_fingerprint, restoration_cache)

__all__ = [
    'RecognizerFineTec', 'RestorationCache', 'active_restoration_cache',
    'module_fingerprint', 'restoration_cache'
]
