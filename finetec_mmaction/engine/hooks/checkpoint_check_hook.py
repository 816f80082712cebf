"""Stop before mmengine loads a checkpoint that does not fit the model."""
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop

from mmaction.registry import HOOKS
from ...utils.checkpoint_check import check_runner_checkpoint


@HOOKS.register_module()
class CheckpointCompatibilityHook(Hook):
    """Check the checkpoint of ``load_from`` / ``resume`` against the model
    (class count, skeleton layout, other shapes, readable file) before it is
    loaded; see :mod:`finetec_mmaction.utils.checkpoint_check`.

    mmengine loads with ``strict=False`` and only logs weights whose shape
    differs, so a checkpoint of another class count or skeleton layout
    silently tests with random weights in their place. This hook runs in
    ``before_run``, which ``Runner.train()``, ``val()`` and ``test()`` call
    right before ``load_or_resume()``, so it covers MMAction2's stock tools
    as well as ours (ours check earlier, before building datasets; the hook
    then skips the checkpoint they checked).

    When training from ``load_from``, a different class count alone is a
    warning (fine-tuning to new classes); testing and resuming must match.
    """
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        training = isinstance(getattr(runner, '_train_loop', None), BaseLoop)
        check_runner_checkpoint(runner, training=training)
