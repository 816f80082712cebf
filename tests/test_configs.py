"""Every shipped config parses, its children change only what their name
says, every config family folder lists its configs in a metafile, and one
of each kind builds its model."""
import glob
import os.path as osp
import re

import pytest
import yaml
from mmengine.config import Config

from e2e_utils import REPO
from finetec_mmaction.utils.config import LOADERS, type_name
from mmaction.registry import MODELS

CONFIG_DIR = osp.join(REPO, 'configs')
CONFIGS = sorted(
    glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True))
# configs/evidence/ holds protocol specs (tests/test_evidence_protocol.py)
CONFIGS = [c for c in CONFIGS if '_base_' not in c
           and osp.join('configs', 'evidence') not in c]
IDS = [osp.relpath(c, REPO) for c in CONFIGS]
#: Folders of a config family: each has a README.md and a metafile.yml.
FAMILIES = ('baselines/stgcnpp', 'finetec', 'finetec/plugplay')
LEVEL = re.compile(r'-(minor|moderate|severe)-keypoint-[23]d\.py$')
FILL = re.compile(r'-(interp|dup)-keypoint-[23]d\.py$')
FILLS = {'interp': 'InterpolateMissingFrames',
         'dup': 'DuplicateMissingFrames'}


@pytest.fixture(scope='module')
def configs():
    return {c: Config.fromfile(c) for c in CONFIGS}


def pipelines(cfg):
    """``{loader: pipeline}`` of the train / val / test datasets."""
    out = {}
    for key in LOADERS:
        dataset = cfg[key].dataset
        while 'pipeline' not in dataset:
            dataset = dataset.dataset
        out[key] = list(dataset.pipeline)
    return out


def corruptions(cfg):
    return {key: [t for t in pipe if type_name(t) == 'TemporalCorruption']
            for key, pipe in pipelines(cfg).items()}


@pytest.mark.parametrize('path', CONFIGS, ids=IDS)
def test_config_parses(path, configs):
    cfg = configs[path]
    assert cfg.custom_imports.imports == ['finetec_mmaction']
    if 'cls_head' in cfg.model:
        assert cfg.model.cls_head.num_classes == cfg.num_classes
    if cfg.model.get('completion'):
        # the completion network must see exactly the sampled clip
        assert cfg.model.completion.clip_len == cfg.clip_len
    for key, pipe in pipelines(cfg).items():
        sample = [t for t in pipe if type_name(t) == 'UniformSampleFrames']
        assert [t.clip_len for t in sample] == [cfg.clip_len], (key, pipe)


@pytest.mark.parametrize('path', CONFIGS, ids=IDS)
def test_children_change_what_their_name_says(path, configs):
    """Roots train at every level (a ratio range, mixed strategies) and test
    at severe random drops; a -{level} child trains and tests at its level,
    -clean has no corruption, a fill child restores right after it."""
    name = osp.basename(path)
    cfg = configs[path]
    found = corruptions(cfg)
    if name.startswith('completion_') or '/plugplay/' in path:
        assert all(len(ts) == 1 for ts in found.values()), found
        return
    if '-clean-' in name:
        assert not any(found.values()), found
        return
    assert all(len(ts) == 1 for ts in found.values()), found
    train, val, test = (found[k][0] for k in LOADERS)
    assert val == test and test.test_mode and not train.get('test_mode')
    level = LEVEL.search(name)
    if level:
        assert {t.ratio for t in (train, val, test)} == {level[1]}
        assert {t.strategy for t in (train, val, test)} == {'random'}
    else:
        assert tuple(train.ratio) == (0.0, 0.9) and train.strategy == 'mixed'
        assert (test.ratio, test.strategy) == ('severe', 'random')
    fill = FILL.search(name)
    for pipe in pipelines(cfg).values():
        types = [type_name(t) for t in pipe]
        # normalise first: PreNormalize2D would move the zeros, and
        # PreNormalize3D would drop the zero-filled frames
        assert types[0].startswith('PreNormalize')
        assert types[1] == 'TemporalCorruption'
        assert (types[2] == FILLS[fill[1]]) if fill else \
            not set(types) & set(FILLS.values())


def test_config_families_have_a_readme_and_a_metafile():
    for family in FAMILIES:
        folder = osp.join(CONFIG_DIR, family)
        assert osp.isfile(osp.join(folder, 'README.md')), folder
        with open(osp.join(folder, 'metafile.yml')) as f:
            meta = yaml.safe_load(f)
        listed = [m['Config'] for m in meta['Models']]
        names = [m['Name'] for m in meta['Models']]
        assert len(set(names)) == len(names), family
        for model in meta['Models']:
            assert model['In Collection'] in {
                c['Name'] for c in meta['Collections']}
            assert osp.isfile(osp.join(REPO, model['Config'])), model
            assert model['Name'] == osp.splitext(
                osp.basename(model['Config']))[0]
        shipped = sorted(
            osp.relpath(p, REPO)
            for p in glob.glob(osp.join(folder, '*.py')))
        assert sorted(listed) == shipped, family


@pytest.mark.parametrize('name', [
    'finetec_gym288.py',
    'finetec/finetec-wo-physics_8xb16-u100-80e_gym288-keypoint-2d.py',
    'finetec/finetec-wo-decomposition_8xb16-u100-80e_pennaction-'
    'keypoint-2d.py',
    'baselines/stgcnpp/stgcnpp_8xb16-bone-u100-80e_ntu60-xsub-keypoint-2d.py',
    'baselines/stgcnpp/stgcnpp_1xb16-joint-u32-80e_utkinect-keypoint-3d.py',
    'finetec/finetec_1xb16-u32-80e_utkinect-keypoint-3d.py',
])
def test_models_build(name):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    if cfg.model.get('completion_checkpoint'):
        cfg.model.completion_checkpoint = None  # no stage-1 run here
    if (cfg.model.get('completion') or {}).get('bank'):
        cfg.model.completion.bank = None  # no dataset here: an empty bank
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0


@pytest.mark.parametrize('suffix', ['1xb16-u48-6e_pennaction-keypoint-2d',
                                    '1xb16-u32-80e_utkinect-keypoint-3d'])
def test_cpu_roots_default_to_the_evidence_and_keep_the_paper(suffix):
    """The CPU roots have ② off (the 3-seed evidence, docs/results.md); the
    paper's ① + ② + ③ is finetec-paper_*, and the ablations are relative to
    it: each removes exactly its own module."""
    def model(prefix):
        return Config.fromfile(osp.join(
            CONFIG_DIR, 'finetec', f'{prefix}_{suffix}.py')).model

    default, paper = model('finetec'), model('finetec-paper')
    assert default.decomposition is None and default.neck is not None
    assert paper.decomposition.type == 'SpatialDecomposition'
    assert paper.neck is not None and paper.completion is not None
    assert model('finetec-wo-physics').decomposition is not None
    assert model('finetec-wo-physics').neck is None
    assert model('finetec-wo-completion').decomposition is not None
    assert model('finetec-wo-completion').completion is None
    assert model('finetec-wo-decomposition').to_dict() == default.to_dict()
