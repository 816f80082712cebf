"""Position + acceleration GCN backbone (SPEC "Recognition head").

An ST-GCN++ (MMAction2 ``STGCN`` with ``gcn_adaptive='init'``,
``gcn_with_res=True``, ``tcn_type='mstcn'``) whose input channels are the
positions followed by the accelerations. All blocks are MMAction2's.
"""
from typing import Dict, List, Optional, Union

import torch

from mmaction.models.backbones import STGCN
from mmaction.registry import MODELS

ACC_FUSIONS = ('concat', 'none')


@MODELS.register_module()
class FineTecGCN(STGCN):
    """ST-GCN++ fed with positions and accelerations.

    Args:
        graph_cfg (dict): Config of the graph, e.g.
            ``dict(layout='coco', mode='spatial')``.
        pos_channels (int): Position channels ``C_pos`` (3 for x, y, score
            or x, y, z). Defaults to 3.
        acc_channels (int): Acceleration channels ``C_acc`` (the neck's
            ``num_coords``: 2 for COCO 2D, 3 for NTU 3D). Defaults to 2.
        acc_fusion (str): ``'concat'`` (default): channel concatenation,
            ``in_channels = C_pos + C_acc``; ``'none'``: positions only
            (the "without ③" ablation), accelerations are ignored.
        gcn_adaptive (str): Defaults to ``'init'`` (ST-GCN++).
        gcn_with_res (bool): Defaults to True (ST-GCN++).
        tcn_type (str): Defaults to ``'mstcn'`` (ST-GCN++).
        **kwargs: Other :class:`mmaction.models.STGCN` arguments
            (``base_channels``, ``num_stages``, ``num_person``, ...), except
            ``in_channels``, which is derived.

    Example:
        >>> model = FineTecGCN(dict(layout='coco', mode='spatial'))
        >>> model.init_weights()
        >>> pos = torch.randn(2, 1, 20, 17, 3)
        >>> acc = torch.randn(2, 1, 20, 17, 2)
        >>> model(pos, acc).shape
        torch.Size([2, 1, 256, 5, 17])
    """

    def __init__(self,
                 graph_cfg: Dict,
                 pos_channels: int = 3,
                 acc_channels: int = 2,
                 acc_fusion: str = 'concat',
                 gcn_adaptive: str = 'init',
                 gcn_with_res: bool = True,
                 tcn_type: str = 'mstcn',
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None,
                 **kwargs) -> None:
        if 'in_channels' in kwargs:
            raise TypeError('FineTecGCN derives in_channels from '
                            'pos_channels and acc_channels; do not pass it.')
        if acc_fusion not in ACC_FUSIONS:
            raise ValueError(f'acc_fusion must be one of {ACC_FUSIONS}, got '
                             f'{acc_fusion!r}.')
        in_channels = pos_channels + (acc_channels
                                      if acc_fusion == 'concat' else 0)
        super().__init__(
            graph_cfg=graph_cfg,
            in_channels=in_channels,
            gcn_adaptive=gcn_adaptive,
            gcn_with_res=gcn_with_res,
            tcn_type=tcn_type,
            init_cfg=init_cfg,
            **kwargs)
        self.pos_channels = pos_channels
        self.acc_channels = acc_channels
        self.acc_fusion = acc_fusion

    def forward(self,
                x: torch.Tensor,
                acc: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Defines the computation performed at every call.

        Args:
            x (torch.Tensor): Positions ``(N, M, T, V, C_pos)``, or positions
                and accelerations already concatenated
                ``(N, M, T, V, C_pos + C_acc)`` when ``acc`` is None.
            acc (torch.Tensor, optional): Accelerations
                ``(N, M, T, V, C_acc)``.

        Returns:
            torch.Tensor: ``(N, M, C', T', V)``.
        """
        if self.acc_fusion == 'none':
            x = x[..., :self.pos_channels]
        elif acc is not None:
            if acc.shape[:-1] != x.shape[:-1]:
                raise ValueError(f'Positions {tuple(x.shape)} and '
                                 f'accelerations {tuple(acc.shape)} differ '
                                 'before the channel axis.')
            x = torch.cat([x, acc.to(x.dtype)], -1)
        if x.shape[-1] != self.in_channels:
            raise ValueError(
                f'FineTecGCN expects {self.pos_channels} position + '
                f'{self.acc_channels} acceleration channels '
                f'(acc_fusion={self.acc_fusion!r}), got input '
                f'{tuple(x.shape)}' +
                ('' if acc is None else f' and acc {tuple(acc.shape)}') + '.')
        return super().forward(x)
