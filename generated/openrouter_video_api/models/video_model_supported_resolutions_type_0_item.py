from enum import StrEnum


class VideoModelSupportedResolutionsType0Item(StrEnum):
    VALUE_0 = "480p"
    VALUE_1 = "720p"
    VALUE_2 = "768p"
    VALUE_3 = "1080p"
    VALUE_4 = "1K"
    VALUE_5 = "2K"
    VALUE_6 = "4K"

    def __str__(self) -> str:
        return str(self.value)
