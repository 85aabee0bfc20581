from typing import Literal

VideoGenerationRequestResolution = Literal["1080p", "1K", "2K", "360p", "480p", "4K", "720p", "768p"]

VIDEO_GENERATION_REQUEST_RESOLUTION_VALUES: set[VideoGenerationRequestResolution] = {
    "1080p",
    "1K",
    "2K",
    "360p",
    "480p",
    "4K",
    "720p",
    "768p",
}


def check_video_generation_request_resolution(value: str) -> VideoGenerationRequestResolution:
    if value in VIDEO_GENERATION_REQUEST_RESOLUTION_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {VIDEO_GENERATION_REQUEST_RESOLUTION_VALUES!r}")
