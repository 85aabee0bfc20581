from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.video_model_supported_aspect_ratios_type_0_item import (
    VideoModelSupportedAspectRatiosType0Item,
    check_video_model_supported_aspect_ratios_type_0_item,
)
from ..models.video_model_supported_frame_images_type_0_item import (
    VideoModelSupportedFrameImagesType0Item,
    check_video_model_supported_frame_images_type_0_item,
)
from ..models.video_model_supported_resolutions_type_0_item import (
    VideoModelSupportedResolutionsType0Item,
    check_video_model_supported_resolutions_type_0_item,
)
from ..models.video_model_supported_sizes_type_0_item import (
    VideoModelSupportedSizesType0Item,
    check_video_model_supported_sizes_type_0_item,
)
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.video_model_pricing_skus_type_0 import VideoModelPricingSkusType0
    from ..models.video_model_upscale_factor_type_0 import VideoModelUpscaleFactorType0


T = TypeVar("T", bound="VideoModel")


@_attrs_define
class VideoModel:
    """
    Example:
        {'allowed_passthrough_parameters': [], 'canonical_slug': 'google/veo-3.1', 'created': 1700000000, 'description':
            'Google video generation model', 'generate_audio': True, 'id': 'google/veo-3.1', 'name': 'Veo 3.1',
            'pricing_skus': {'generate': '0.50'}, 'seed': None, 'supported_aspect_ratios': ['16:9'], 'supported_durations':
            [5, 8], 'supported_frame_images': ['first_frame', 'last_frame'], 'supported_resolutions': ['720p'],
            'supported_sizes': None}

    Attributes:
        allowed_passthrough_parameters (list[str]): List of parameters that are allowed to be passed through to the
            provider
        canonical_slug (str): Canonical slug for the model Example: openai/gpt-4.
        created (int): Unix timestamp of when the model was created Example: 1692901234.
        creativity (list[int] | None): Supported creativity levels for video upscaling models
        generate_audio (bool | None): Whether the model supports generating audio alongside video
        id (str): Unique identifier for the model Example: openai/gpt-4.
        name (str): Display name of the model Example: GPT-4.
        seed (bool | None): Whether the model supports deterministic generation via seed parameter
        supported_aspect_ratios (list[VideoModelSupportedAspectRatiosType0Item] | None): Supported output aspect ratios
        supported_durations (list[int] | None): Supported video durations in seconds
        supported_frame_images (list[VideoModelSupportedFrameImagesType0Item] | None): Supported frame image types (e.g.
            first_frame, last_frame)
        supported_resolutions (list[VideoModelSupportedResolutionsType0Item] | None): Supported output resolutions
        supported_sizes (list[VideoModelSupportedSizesType0Item] | None): Supported output sizes (width x height)
        upscale_factor (None | VideoModelUpscaleFactorType0): Supported upscale factor range for video upscaling models
        description (str | Unset): Description of the model Example: GPT-4 is a large multimodal model that can solve
            difficult problems with greater accuracy..
        hugging_face_id (None | str | Unset): Hugging Face model identifier, if applicable Example: microsoft/DialoGPT-
            medium.
        pricing_skus (None | Unset | VideoModelPricingSkusType0): Pricing SKUs with provider prefix stripped, values as
            strings
    """

    allowed_passthrough_parameters: list[str]
    canonical_slug: str
    created: int
    creativity: list[int] | None
    generate_audio: bool | None
    id: str
    name: str
    seed: bool | None
    supported_aspect_ratios: list[VideoModelSupportedAspectRatiosType0Item] | None
    supported_durations: list[int] | None
    supported_frame_images: list[VideoModelSupportedFrameImagesType0Item] | None
    supported_resolutions: list[VideoModelSupportedResolutionsType0Item] | None
    supported_sizes: list[VideoModelSupportedSizesType0Item] | None
    upscale_factor: None | VideoModelUpscaleFactorType0
    description: str | Unset = UNSET
    hugging_face_id: None | str | Unset = UNSET
    pricing_skus: None | Unset | VideoModelPricingSkusType0 = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.video_model_pricing_skus_type_0 import VideoModelPricingSkusType0  # noqa: PLC0415
        from ..models.video_model_upscale_factor_type_0 import VideoModelUpscaleFactorType0  # noqa: PLC0415

        allowed_passthrough_parameters = self.allowed_passthrough_parameters

        canonical_slug = self.canonical_slug

        created = self.created

        creativity: list[int] | None
        if isinstance(self.creativity, list):
            creativity = self.creativity

        else:
            creativity = self.creativity

        generate_audio: bool | None
        generate_audio = self.generate_audio

        id = self.id

        name = self.name

        seed: bool | None
        seed = self.seed

        supported_aspect_ratios: list[str] | None
        if isinstance(self.supported_aspect_ratios, list):
            supported_aspect_ratios = []
            for supported_aspect_ratios_type_0_item_data in self.supported_aspect_ratios:
                supported_aspect_ratios_type_0_item: str = supported_aspect_ratios_type_0_item_data
                supported_aspect_ratios.append(supported_aspect_ratios_type_0_item)

        else:
            supported_aspect_ratios = self.supported_aspect_ratios

        supported_durations: list[int] | None
        if isinstance(self.supported_durations, list):
            supported_durations = self.supported_durations

        else:
            supported_durations = self.supported_durations

        supported_frame_images: list[str] | None
        if isinstance(self.supported_frame_images, list):
            supported_frame_images = []
            for supported_frame_images_type_0_item_data in self.supported_frame_images:
                supported_frame_images_type_0_item: str = supported_frame_images_type_0_item_data
                supported_frame_images.append(supported_frame_images_type_0_item)

        else:
            supported_frame_images = self.supported_frame_images

        supported_resolutions: list[str] | None
        if isinstance(self.supported_resolutions, list):
            supported_resolutions = []
            for supported_resolutions_type_0_item_data in self.supported_resolutions:
                supported_resolutions_type_0_item: str = supported_resolutions_type_0_item_data
                supported_resolutions.append(supported_resolutions_type_0_item)

        else:
            supported_resolutions = self.supported_resolutions

        supported_sizes: list[str] | None
        if isinstance(self.supported_sizes, list):
            supported_sizes = []
            for supported_sizes_type_0_item_data in self.supported_sizes:
                supported_sizes_type_0_item: str = supported_sizes_type_0_item_data
                supported_sizes.append(supported_sizes_type_0_item)

        else:
            supported_sizes = self.supported_sizes

        upscale_factor: dict[str, Any] | None
        if isinstance(self.upscale_factor, VideoModelUpscaleFactorType0):
            upscale_factor = self.upscale_factor.to_dict()
        else:
            upscale_factor = self.upscale_factor

        description = self.description

        hugging_face_id: None | str | Unset
        if isinstance(self.hugging_face_id, Unset):
            hugging_face_id = UNSET
        else:
            hugging_face_id = self.hugging_face_id

        pricing_skus: dict[str, Any] | None | Unset
        if isinstance(self.pricing_skus, Unset):
            pricing_skus = UNSET
        elif isinstance(self.pricing_skus, VideoModelPricingSkusType0):
            pricing_skus = self.pricing_skus.to_dict()
        else:
            pricing_skus = self.pricing_skus

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "allowed_passthrough_parameters": allowed_passthrough_parameters,
                "canonical_slug": canonical_slug,
                "created": created,
                "creativity": creativity,
                "generate_audio": generate_audio,
                "id": id,
                "name": name,
                "seed": seed,
                "supported_aspect_ratios": supported_aspect_ratios,
                "supported_durations": supported_durations,
                "supported_frame_images": supported_frame_images,
                "supported_resolutions": supported_resolutions,
                "supported_sizes": supported_sizes,
                "upscale_factor": upscale_factor,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if hugging_face_id is not UNSET:
            field_dict["hugging_face_id"] = hugging_face_id
        if pricing_skus is not UNSET:
            field_dict["pricing_skus"] = pricing_skus

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.video_model_pricing_skus_type_0 import VideoModelPricingSkusType0  # noqa: PLC0415
        from ..models.video_model_upscale_factor_type_0 import VideoModelUpscaleFactorType0  # noqa: PLC0415

        d = dict(src_dict)
        allowed_passthrough_parameters = cast(list[str], d.pop("allowed_passthrough_parameters"))

        canonical_slug = d.pop("canonical_slug")

        created = d.pop("created")

        def _parse_creativity(data: object) -> list[int] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                creativity_type_0 = cast(list[int], data)

                return creativity_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None, data)

        creativity = _parse_creativity(d.pop("creativity"))

        def _parse_generate_audio(data: object) -> bool | None:
            if data is None:
                return data
            return cast(bool | None, data)

        generate_audio = _parse_generate_audio(d.pop("generate_audio"))

        id = d.pop("id")

        name = d.pop("name")

        def _parse_seed(data: object) -> bool | None:
            if data is None:
                return data
            return cast(bool | None, data)

        seed = _parse_seed(d.pop("seed"))

        def _parse_supported_aspect_ratios(data: object) -> list[VideoModelSupportedAspectRatiosType0Item] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                supported_aspect_ratios_type_0 = []
                _supported_aspect_ratios_type_0 = data
                for supported_aspect_ratios_type_0_item_data in _supported_aspect_ratios_type_0:
                    supported_aspect_ratios_type_0_item = check_video_model_supported_aspect_ratios_type_0_item(
                        supported_aspect_ratios_type_0_item_data
                    )

                    supported_aspect_ratios_type_0.append(supported_aspect_ratios_type_0_item)

                return supported_aspect_ratios_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[VideoModelSupportedAspectRatiosType0Item] | None, data)

        supported_aspect_ratios = _parse_supported_aspect_ratios(d.pop("supported_aspect_ratios"))

        def _parse_supported_durations(data: object) -> list[int] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                supported_durations_type_0 = cast(list[int], data)

                return supported_durations_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[int] | None, data)

        supported_durations = _parse_supported_durations(d.pop("supported_durations"))

        def _parse_supported_frame_images(data: object) -> list[VideoModelSupportedFrameImagesType0Item] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                supported_frame_images_type_0 = []
                _supported_frame_images_type_0 = data
                for supported_frame_images_type_0_item_data in _supported_frame_images_type_0:
                    supported_frame_images_type_0_item = check_video_model_supported_frame_images_type_0_item(
                        supported_frame_images_type_0_item_data
                    )

                    supported_frame_images_type_0.append(supported_frame_images_type_0_item)

                return supported_frame_images_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[VideoModelSupportedFrameImagesType0Item] | None, data)

        supported_frame_images = _parse_supported_frame_images(d.pop("supported_frame_images"))

        def _parse_supported_resolutions(data: object) -> list[VideoModelSupportedResolutionsType0Item] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                supported_resolutions_type_0 = []
                _supported_resolutions_type_0 = data
                for supported_resolutions_type_0_item_data in _supported_resolutions_type_0:
                    supported_resolutions_type_0_item = check_video_model_supported_resolutions_type_0_item(
                        supported_resolutions_type_0_item_data
                    )

                    supported_resolutions_type_0.append(supported_resolutions_type_0_item)

                return supported_resolutions_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[VideoModelSupportedResolutionsType0Item] | None, data)

        supported_resolutions = _parse_supported_resolutions(d.pop("supported_resolutions"))

        def _parse_supported_sizes(data: object) -> list[VideoModelSupportedSizesType0Item] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                supported_sizes_type_0 = []
                _supported_sizes_type_0 = data
                for supported_sizes_type_0_item_data in _supported_sizes_type_0:
                    supported_sizes_type_0_item = check_video_model_supported_sizes_type_0_item(
                        supported_sizes_type_0_item_data
                    )

                    supported_sizes_type_0.append(supported_sizes_type_0_item)

                return supported_sizes_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[VideoModelSupportedSizesType0Item] | None, data)

        supported_sizes = _parse_supported_sizes(d.pop("supported_sizes"))

        def _parse_upscale_factor(data: object) -> None | VideoModelUpscaleFactorType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                upscale_factor_type_0 = VideoModelUpscaleFactorType0.from_dict(data)

                return upscale_factor_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | VideoModelUpscaleFactorType0, data)

        upscale_factor = _parse_upscale_factor(d.pop("upscale_factor"))

        description = d.pop("description", UNSET)

        def _parse_hugging_face_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        hugging_face_id = _parse_hugging_face_id(d.pop("hugging_face_id", UNSET))

        def _parse_pricing_skus(data: object) -> None | Unset | VideoModelPricingSkusType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                pricing_skus_type_0 = VideoModelPricingSkusType0.from_dict(data)

                return pricing_skus_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | VideoModelPricingSkusType0, data)

        pricing_skus = _parse_pricing_skus(d.pop("pricing_skus", UNSET))

        video_model = cls(
            allowed_passthrough_parameters=allowed_passthrough_parameters,
            canonical_slug=canonical_slug,
            created=created,
            creativity=creativity,
            generate_audio=generate_audio,
            id=id,
            name=name,
            seed=seed,
            supported_aspect_ratios=supported_aspect_ratios,
            supported_durations=supported_durations,
            supported_frame_images=supported_frame_images,
            supported_resolutions=supported_resolutions,
            supported_sizes=supported_sizes,
            upscale_factor=upscale_factor,
            description=description,
            hugging_face_id=hugging_face_id,
            pricing_skus=pricing_skus,
        )

        video_model.additional_properties = d
        return video_model

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
