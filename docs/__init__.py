"""Documentation, and the generator of the README's settings tables."""
