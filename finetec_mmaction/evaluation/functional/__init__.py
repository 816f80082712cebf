from .accuracy import accuracy_summary

__all__ = ['accuracy_summary']
