from hypothesis import settings

# Behaviour, never wall-clock: no per-example deadline on a shared 2-core machine.
settings.register_profile("obscode", deadline=None, max_examples=100, print_blob=True)
settings.load_profile("obscode")
