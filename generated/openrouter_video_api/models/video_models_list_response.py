from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.video_model import VideoModel


T = TypeVar("T", bound="VideoModelsListResponse")


@_attrs_define
class VideoModelsListResponse:
    """
    Example:
        {'data': [{'allowed_passthrough_parameters': [], 'canonical_slug': 'google/veo-3.1', 'created': 1700000000,
            'description': 'Google video generation model', 'generate_audio': True, 'id': 'google/veo-3.1', 'name': 'Veo
            3.1', 'pricing_skus': {'generate': '0.50'}, 'seed': None, 'supported_aspect_ratios': ['16:9'],
            'supported_durations': [5, 8], 'supported_frame_images': ['first_frame', 'last_frame'], 'supported_resolutions':
            ['720p'], 'supported_sizes': None}]}

    Attributes:
        data (list[VideoModel]):
    """

    data: list[VideoModel]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = []
        for data_item_data in self.data:
            data_item = data_item_data.to_dict()
            data.append(data_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "data": data,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.video_model import VideoModel  # noqa: PLC0415

        d = dict(src_dict)
        data = []
        _data = d.pop("data")
        for data_item_data in _data:
            data_item = VideoModel.from_dict(data_item_data)

            data.append(data_item)

        video_models_list_response = cls(
            data=data,
        )

        video_models_list_response.additional_properties = d
        return video_models_list_response

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
