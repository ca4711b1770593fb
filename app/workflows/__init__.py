"""Services about workflow definitions: validation, and the workflows sub_workflow nodes name."""
