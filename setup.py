import os.path as osp

from setuptools import find_packages, setup


def mmcv_requirement():
    """mmcv-lite by default; keep a full mmcv the user already installed.

    mmaction2 1.2.0 asserts mmcv<2.2.0 and the skeleton path calls no
    compiled op, so the pure-Python mmcv-lite is enough. Installing it beside
    a full mmcv would overwrite the compiled package, hence the check.
    """
    try:
        from importlib.metadata import PackageNotFoundError, version
        version('mmcv')
        return 'mmcv>=2.0.0,<2.2.0'
    except PackageNotFoundError:
        return 'mmcv-lite==2.1.0'


def read_version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'finetec_mmaction',
                       'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='finetec-mmaction',
    version=read_version(),
    description='FineTec (fine-grained action recognition under temporal '
    'corruption) as an MMAction2 plugin',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['finetec_mmaction', 'finetec_mmaction.*']),
    python_requires='>=3.9',
    install_requires=[
        # install torch first (see README): a CPU or CUDA build of your choice
        'torch>=2.0',
        'numpy',
        'scipy',
        'setuptools>=77.0.3,<82',  # mmengine's `mmaction::` bases need pkg_resources
        'mmengine==0.10.7',
        mmcv_requirement(),
        'mmaction2==1.2.0',
        'importlib-metadata',
        'matplotlib',
        'tensorboard',
    ],
    extras_require={
        'tests': ['pytest', 'pytest-xdist', 'hypothesis'],
        # ONNX export (tools/deployment/): torch's exporter needs onnxscript
        'deploy': ['onnx>=1.23', 'onnxruntime>=1.30', 'onnxscript>=0.7'],
    },
    # class names shipped with the package (demo/demo_skeleton.py)
    package_data={'finetec_mmaction': ['datasets/label_maps/*.txt']},
    zip_safe=False,
)
