from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.service_unavailable_response_error_data import ServiceUnavailableResponseErrorData
    from ..models.service_unavailable_response_openrouter_metadata_type_0 import (
        ServiceUnavailableResponseOpenrouterMetadataType0,
    )


T = TypeVar("T", bound="ServiceUnavailableResponse")


@_attrs_define
class ServiceUnavailableResponse:
    """Service Unavailable - Service temporarily unavailable

    Example:
        {'error': {'code': 503, 'message': 'Service temporarily unavailable'}}

    Attributes:
        error (ServiceUnavailableResponseErrorData): Error data for ServiceUnavailableResponse Example: {'code': 503,
            'message': 'Service temporarily unavailable'}.
        openrouter_metadata (None | ServiceUnavailableResponseOpenrouterMetadataType0 | Unset):
        user_id (None | str | Unset):
    """

    error: ServiceUnavailableResponseErrorData
    openrouter_metadata: None | ServiceUnavailableResponseOpenrouterMetadataType0 | Unset = UNSET
    user_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.service_unavailable_response_openrouter_metadata_type_0 import (
            ServiceUnavailableResponseOpenrouterMetadataType0,  # noqa: PLC0415
        )

        error = self.error.to_dict()

        openrouter_metadata: dict[str, Any] | None | Unset
        if isinstance(self.openrouter_metadata, Unset):
            openrouter_metadata = UNSET
        elif isinstance(self.openrouter_metadata, ServiceUnavailableResponseOpenrouterMetadataType0):
            openrouter_metadata = self.openrouter_metadata.to_dict()
        else:
            openrouter_metadata = self.openrouter_metadata

        user_id: None | str | Unset
        if isinstance(self.user_id, Unset):
            user_id = UNSET
        else:
            user_id = self.user_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "error": error,
            }
        )
        if openrouter_metadata is not UNSET:
            field_dict["openrouter_metadata"] = openrouter_metadata
        if user_id is not UNSET:
            field_dict["user_id"] = user_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.service_unavailable_response_error_data import ServiceUnavailableResponseErrorData  # noqa: PLC0415
        from ..models.service_unavailable_response_openrouter_metadata_type_0 import (
            ServiceUnavailableResponseOpenrouterMetadataType0,  # noqa: PLC0415
        )

        d = dict(src_dict)
        error = ServiceUnavailableResponseErrorData.from_dict(d.pop("error"))

        def _parse_openrouter_metadata(
            data: object,
        ) -> None | ServiceUnavailableResponseOpenrouterMetadataType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                openrouter_metadata_type_0 = ServiceUnavailableResponseOpenrouterMetadataType0.from_dict(data)

                return openrouter_metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ServiceUnavailableResponseOpenrouterMetadataType0 | Unset, data)

        openrouter_metadata = _parse_openrouter_metadata(d.pop("openrouter_metadata", UNSET))

        def _parse_user_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user_id = _parse_user_id(d.pop("user_id", UNSET))

        service_unavailable_response = cls(
            error=error,
            openrouter_metadata=openrouter_metadata,
            user_id=user_id,
        )

        service_unavailable_response.additional_properties = d
        return service_unavailable_response

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
