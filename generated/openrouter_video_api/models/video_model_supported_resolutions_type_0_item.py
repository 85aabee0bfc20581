from typing import Literal

VideoModelSupportedResolutionsType0Item = Literal["1080p", "1K", "2K", "360p", "480p", "4K", "720p", "768p"]

VIDEO_MODEL_SUPPORTED_RESOLUTIONS_TYPE_0_ITEM_VALUES: set[VideoModelSupportedResolutionsType0Item] = {
    "1080p",
    "1K",
    "2K",
    "360p",
    "480p",
    "4K",
    "720p",
    "768p",
}


def check_video_model_supported_resolutions_type_0_item(value: str) -> VideoModelSupportedResolutionsType0Item:
    if value in VIDEO_MODEL_SUPPORTED_RESOLUTIONS_TYPE_0_ITEM_VALUES:
        return value
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {VIDEO_MODEL_SUPPORTED_RESOLUTIONS_TYPE_0_ITEM_VALUES!r}"
    )
