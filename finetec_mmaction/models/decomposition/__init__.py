from .fusion import CrossAttentionFusion, MLPFusion
from .spatial_decomposition import SpatialDecomposition

__all__ = ['CrossAttentionFusion', 'MLPFusion', 'SpatialDecomposition']
