"""Loading a stage-1 completion module from a checkpoint."""
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn


def load_completion_weights(completion: nn.Module, path: str,
                            config_name: str) -> None:
    """Load the ``completion.*`` weights (skeleton bank included) of the
    checkpoint file ``path`` into ``completion``, strictly.

    Args:
        completion (nn.Module): A ``ContextAwareCompletion``.
        path (str): A checkpoint file (e.g. of ``CompletionPretrainer`` or a
            FineTec recognizer).
        config_name (str): Names the config in the error of a mismatch.
    """
    state = _load_checkpoint(path, map_location='cpu')
    state = state.get('state_dict', state)
    prefix = 'completion.'
    weights = {k[len(prefix):]: v for k, v in state.items()
               if k.startswith(prefix)}
    if not weights:
        raise KeyError(f'{path} holds no "completion.*" weights: is it a '
                       'stage-1 (CompletionPretrainer) checkpoint?')
    try:
        completion.load_state_dict(weights, strict=True)
    except RuntimeError as err:
        raise RuntimeError(
            f'The completion weights in {path} do not fit the completion '
            f'config of {config_name} (layout, clip_len or width differ): '
            f'{err}') from err
