import torch
from mmengine.config import Config


def use_gloo_without_cuda(cfg: Config) -> None:
    """NCCL needs GPUs: switch a distributed run to gloo on a CPU machine, so
    ``tools/dist_train.sh CONFIG 2`` works on a laptop or CI as well."""
    if cfg.get('launcher', 'none') != 'none' and not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg['backend'] = 'gloo'
