from .finetec_gcn import FineTecGCN

__all__ = ['FineTecGCN']
