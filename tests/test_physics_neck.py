"""Module ③: PhysicsAccelerationNeck."""
import pytest
import torch

import finetec_mmaction  # noqa: F401  (compat fixes + registration first)
from finetec_mmaction.core import finite_difference_acceleration
from finetec_mmaction.models.necks import PhysicsAccelerationNeck
from mmaction.models import STGCN
from mmaction.registry import MODELS

CASES = {  # layout: (num_joints, input channels, num_coords)
    'coco': (17, 3, 2),  # x, y, score
    'nturgb+d': (25, 3, 3),  # x, y, z
}


def smooth_streams(num_joints, channels, num_streams=3, B=2, M=1, T=10,
                   seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, T)[:, None, None]
    streams = []
    for _ in range(num_streams):
        a, b = torch.rand(2, B, M, 1, num_joints, channels, generator=g)
        streams.append(a + 0.3 * torch.sin(3 * t + b))
    return streams


def small_neck(layout, **kwargs):
    V, _, nc = CASES[layout]
    cfg = dict(type='PhysicsAccelerationNeck', num_joints=V, num_coords=nc,
               hidden_channels=16)
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.mark.parametrize('layout', ['coco', 'nturgb+d'])
@pytest.mark.parametrize('minv_type', ['full', 'cholesky', 'lowrank'])
def test_shapes_and_symmetric_minv(layout, minv_type):
    V, C, nc = CASES[layout]
    neck = small_neck(layout, minv_type=minv_type, minv_rank=3)
    streams = smooth_streams(V, C)
    a_pred, aux = neck(streams, return_aux=True)
    assert a_pred.shape == (2, 1, 10, V, nc)
    assert len(aux['a_hat']) == len(aux['acc']) == 3
    out = neck.dynamics(streams[0], return_minv=True)
    D = V * nc
    minv = out['minv']
    assert minv.shape == (2, 1, 10, D, D)
    assert torch.equal(minv, minv.transpose(-1, -2))  # exactly symmetric
    if minv_type != 'full':  # positive definite by construction
        assert torch.linalg.eigvalsh(minv.double()).min() > 0
    # q_ddot = M^-1 tau - C q_dot - g
    tau = out['tau'].flatten(-2)[..., None]
    expected = (minv @ tau)[..., 0] - out['cqd'].flatten(-2) - \
        out['g'].flatten(-2)
    torch.testing.assert_close(out['qddot'].flatten(-2), expected,
                               rtol=1e-4, atol=1e-6)


def test_data_branch_and_zero_loss():
    V, C, nc = CASES['coco']
    neck = small_neck('coco')
    streams = smooth_streams(V, C)
    _, aux = neck(streams, return_aux=True)
    for stream, a_hat in zip(streams, aux['a_hat']):
        torch.testing.assert_close(
            a_hat, finite_difference_acceleration(stream[..., :nc]))
    # L_Ac is zero when every fused acceleration equals its finite difference
    aux_same = dict(aux, acc=[a.clone() for a in aux['a_hat']])
    assert neck.loss(aux_same)['loss_acc'].item() == 0
    # ... e.g. when the gates open fully on the data branch
    with torch.no_grad():
        for gate in neck.gates:
            gate.weight.zero_()
            gate.bias.fill_(50.)
    a_pred, aux = neck(streams, return_aux=True)
    assert neck.loss(aux)['loss_acc'].item() == 0
    # and then a_pred is a convex mix of the streams' finite differences
    lo = torch.stack(aux['a_hat']).min(0).values
    hi = torch.stack(aux['a_hat']).max(0).values
    assert torch.all(a_pred >= lo - 1e-6) and torch.all(a_pred <= hi + 1e-6)
    # loss_weight is lambda
    with torch.no_grad():
        for gate in neck.gates:
            gate.bias.fill_(0.)
    _, aux = neck(streams, return_aux=True)
    loss = neck.loss(aux)['loss_acc']
    manual = torch.stack([(h - a).pow(2).mean()
                          for h, a in zip(aux['a_hat'], aux['acc'])]).mean()
    torch.testing.assert_close(loss, 0.1 * manual)


def test_gradients_flow_to_every_parameter():
    V, C, _ = CASES['nturgb+d']
    neck = small_neck('nturgb+d')
    streams = [s.requires_grad_() for s in smooth_streams(V, C)]
    a_pred, aux = neck(streams, return_aux=True)
    (a_pred.pow(2).sum() + neck.loss(aux)['loss_acc']).backward()
    for name, p in neck.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    for s in streams:
        assert s.grad.abs().sum() > 0


def test_missing_frames_get_no_acceleration_or_loss():
    V, C, nc = CASES['coco']
    neck = small_neck('coco')
    streams = smooth_streams(V, C, B=1, M=2)
    valid = torch.ones(1, 2, 10, dtype=torch.bool)
    valid[0, 0, 4] = False
    streams = [s * valid[..., None, None] for s in streams]
    streams[0][:, 1] = 0  # padded second person
    a_pred, aux = neck(streams, return_aux=True)
    assert torch.all(a_pred[0, 0, 4] == 0) and torch.all(a_pred[0, 1] == 0)
    # a_hat never sees the zero frame as a jump
    assert torch.all(aux['a_hat'][0][0, 0, 3:6] == 0)
    assert torch.isfinite(neck.loss(aux)['loss_acc'])


def test_single_stream_with_stock_stgcn():
    """The neck alone in front of a stock ST-GCN++: concatenate channels."""
    V, C, nc = CASES['coco']
    neck = PhysicsAccelerationNeck(
        num_joints=V, num_coords=nc, hidden_channels=16, num_streams=1)
    stgcn = STGCN(
        graph_cfg=dict(layout='coco', mode='spatial'),
        in_channels=C + nc,
        base_channels=8,
        num_stages=2,
        inflate_stages=[2],
        down_stages=[2],
        gcn_adaptive='init',
        gcn_with_res=True,
        tcn_type='mstcn')
    x = smooth_streams(V, C, num_streams=1, M=2)[0]
    acc, aux = neck(x, return_aux=True)
    assert acc.shape == (2, 2, 10, V, nc)
    feat = stgcn(torch.cat([x, acc], -1))
    assert feat.shape == (2, 2, 16, 5, V)
    (feat.mean() + neck.loss(aux)['loss_acc']).backward()
    assert neck.minv_head.weight.grad.abs().sum() > 0
    # a three-stream neck also accepts one stream (no stream fusion)
    neck3 = PhysicsAccelerationNeck(num_joints=V, num_coords=nc,
                                    hidden_channels=16)
    assert neck3(x).shape == (2, 2, 10, V, nc)
    with pytest.raises(ValueError, match='one stream or 3'):
        neck3([x, x])
    with pytest.raises(ValueError, match='minv_type'):
        PhysicsAccelerationNeck(minv_type='diag')
