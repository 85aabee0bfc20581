from enum import StrEnum


class VideoModelSupportedFrameImagesType0Item(StrEnum):
    FIRST_FRAME = "first_frame"
    LAST_FRAME = "last_frame"

    def __str__(self) -> str:
        return str(self.value)
