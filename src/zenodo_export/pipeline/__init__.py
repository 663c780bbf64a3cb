"""The export pipeline: resumable steps, the job runner, the worker."""
