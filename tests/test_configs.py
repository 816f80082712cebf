"""Every shipped config parses, the generated ones are up to date, and one of
each kind builds its model."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

from e2e_utils import REPO, TOOLS
from mmaction.registry import MODELS

CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True))
# configs/evidence/ holds protocol specs (tests/test_evidence_protocol.py)
CONFIGS = [c for c in CONFIGS if '_base_' not in c
           and osp.join('configs', 'evidence') not in c]


def test_generated_configs_are_up_to_date():
    proc = subprocess.run(
        [sys.executable, osp.join(TOOLS, 'misc', 'generate_configs.py'),
         '--check'], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(c, REPO) for c in CONFIGS])
def test_config_parses(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports.imports == ['finetec_mmaction']
    if 'cls_head' in cfg.model:
        assert cfg.model.cls_head.num_classes == cfg.num_classes
    if cfg.model.type == 'RecognizerFineTec' and cfg.model.get('completion'):
        # the completion network must see exactly the sampled clip
        assert cfg.model.completion.clip_len == cfg.clip_len


@pytest.mark.parametrize('name', [
    'finetec_gym288.py',
    'finetec/finetec-wo-physics_8xb16-u100-80e_gym288-severe-keypoint-2d.py',
    'finetec/finetec-wo-decomposition_8xb16-u100-80e_pennaction-severe-'
    'keypoint-2d.py',
    'baselines/stgcnpp/stgcnpp_8xb16-bone-u100-80e_ntu60-xsub-moderate-'
    'interp-keypoint-2d.py',
])
def test_models_build(name):
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    if cfg.model.get('completion_checkpoint'):
        cfg.model.completion_checkpoint = None  # no stage-1 run here
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
