from .physics_acceleration import PhysicsAccelerationNeck

__all__ = ['PhysicsAccelerationNeck']
