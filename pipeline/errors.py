from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose.

    ``permanent`` tells the job machinery not to retry: the same input would
    fail the same way.
    """

    permanent = True

    def __init__(self, message: str, *, code: str = "pipeline_error") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class ImageRejected(PipelineError):
    """An uploaded file is not an image we can safely use."""


class ModelMissing(PipelineError):
    """A configured model file is not installed."""


class NotEnoughPhotos(PipelineError):
    """Too few usable photos remain to build an identity."""
