"""FineTecGCN (positions + accelerations) and the ②→③→GCN chain."""
import pytest
import torch
import torch.nn as nn

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from finetec_mmaction.models.backbones import FineTecGCN
from mmaction.registry import MODELS

TINY = dict(base_channels=8, num_stages=2, inflate_stages=[2],
            down_stages=[2])
CASES = {'coco': (17, 3, 2), 'nturgb+d': (25, 3, 3)}  # V, C_pos, C_acc


def build(layout, **kwargs):
    V, C, nc = CASES[layout]
    cfg = dict(type='FineTecGCN', graph_cfg=dict(layout=layout,
                                                 mode='spatial'),
               pos_channels=C, acc_channels=nc, **TINY)
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('layout', ['coco', 'nturgb+d'])
def test_shapes(layout):
    V, C, nc = CASES[layout]
    model = build(layout)
    assert model.in_channels == C + nc
    pos = torch.randn(2, 2, 12, V, C)
    acc = torch.randn(2, 2, 12, V, nc)
    out = model(pos, acc)
    assert out.shape == (2, 2, 16, 6, V)  # (N, M, C', T', V)
    # pre-concatenated input is the same thing
    model.eval()
    torch.testing.assert_close(model(pos, acc),
                               model(torch.cat([pos, acc], -1)))


def test_stgcnpp_defaults_and_errors():
    model = build('coco')
    block = model.gcn[0]
    assert isinstance(block.gcn.A, nn.Parameter)  # gcn_adaptive='init'
    assert block.gcn.with_res  # gcn_with_res=True
    assert type(block.tcn).__name__ == 'mstcn'
    with pytest.raises(ValueError, match='acceleration channels'):
        model(torch.randn(1, 1, 8, 17, 3))  # accelerations forgotten
    with pytest.raises(ValueError, match='differ'):
        model(torch.randn(1, 1, 8, 17, 3), torch.randn(1, 1, 6, 17, 2))
    with pytest.raises(TypeError, match='in_channels'):
        build('coco', in_channels=5)
    with pytest.raises(ValueError, match='acc_fusion'):
        build('coco', acc_fusion='add')
    # positions only (the "without ③" ablation)
    plain = build('coco', acc_fusion='none')
    assert plain.in_channels == 3
    assert plain(torch.randn(1, 1, 8, 17, 3)).shape == (1, 1, 16, 4, 17)


def test_decomposition_neck_backbone_chain():
    """S_base -> ② -> (S_pred, S_dyna, S_stat) -> ③ -> a_pred -> GCN."""
    torch.manual_seed(0)
    V, C, nc = CASES['coco']
    decomposition = MODELS.build(
        dict(type='SpatialDecomposition', in_channels=C, layout='coco'))
    neck = MODELS.build(
        dict(type='PhysicsAccelerationNeck', num_joints=V, num_coords=nc,
             hidden_channels=16))
    backbone = build('coco')
    t = torch.linspace(0, 1, 12)[:, None, None]
    s_base = torch.rand(2, 1, 1, V, C) + 0.2 * torch.sin(
        4 * t + torch.rand(2, 1, 1, V, C))
    s_pred, s_dyna, s_stat = decomposition(s_base)
    a_pred, aux = neck([s_base, s_dyna, s_stat], return_aux=True)
    feat = backbone(s_pred, a_pred)
    assert feat.shape == (2, 1, 16, 6, V)
    loss = feat.mean() + neck.loss(aux)['loss_acc']
    loss.backward()
    for module in (neck, backbone):
        grads = [p.grad for p in module.parameters() if p.requires_grad]
        assert all(g is not None for g in grads)
    assert decomposition.fusion.out.weight.grad.abs().sum() > 0
    assert isinstance(backbone, FineTecGCN)
