"""Library entry points: each CLI command is one of these functions, and the studio calls them too.

They wire the stages together (training's previews and end-of-run check, sampling's originality
check, evaluation's renders) and return data; only the CLI prints.
"""
