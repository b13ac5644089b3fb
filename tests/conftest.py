import os

from hypothesis import HealthCheck, settings

# CI machines are small and shared: no per-example deadline, fewer examples, same checks.
settings.register_profile("ci", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
