import mmaction.models  # noqa: F401  (registers the stock modules we build on)
from . import (backbones, completion, decomposition, necks,  # noqa: F401,E402
               recognizers)
