import torch
from mmengine.config import Config


def use_gloo_without_cuda(cfg: Config) -> None:
    """Make a distributed run work on a machine without CUDA, so that
    ``tools/dist_train.sh CONFIG 2`` runs on a laptop or CI as well: gloo
    instead of NCCL, and DDP without ``device_ids`` (mmengine passes the
    local rank as a GPU id by default)."""
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    if cfg.get('model_wrapper_cfg') is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))


def destroy_process_group() -> None:
    """Shut a distributed run's process group down before the interpreter
    exits. Left to interpreter teardown, the gloo threads are sometimes
    destroyed while still running, and the process aborts ("terminate called
    without an active exception", SIGABRT) after training has finished; the
    launcher then reports the whole run as failed. A no-op without one."""
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        # leave together: a rank that tears down while another still talks
        # to it breaks the other's connections
        dist.barrier()
        dist.destroy_process_group()
