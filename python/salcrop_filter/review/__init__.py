"""``salcrop review``: a local web editor over the crop path (README "Review and correct in the browser").

- analysis.py: every frame's saliency map and the shots, computed once by the core's engine and cached;
- planning.py: the paths, planned by the core (``_core.plan_path``) from that analysis and a person's edits;
- store.py: edits saved with a version, every file written under a temporary name and renamed;
- session.py: one run's videos, their analyses, edits, exports and renders (background threads);
- server.py: the HTTP API (Starlette, uvicorn) and its safety rules; static/: the page (plain ES modules);
- command.py: the command line.
"""
