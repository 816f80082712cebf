from .checkpoint_check import (CheckpointMismatchError,
                               check_checkpoint_compatible,
                               check_runner_checkpoint,
                               completion_from_checkpoint,
                               use_bundled_completion)
from .dist import destroy_process_group, use_gloo_without_cuda
from .io import (atomic_write, atomic_write_text, dump_csv, dump_json,
                 resolve_checkpoint)

__all__ = [
    'CheckpointMismatchError', 'atomic_write', 'atomic_write_text',
    'dump_csv', 'dump_json', 'check_checkpoint_compatible',
    'check_runner_checkpoint', 'completion_from_checkpoint',
    'destroy_process_group', 'resolve_checkpoint',
    'use_bundled_completion', 'use_gloo_without_cuda'
]
