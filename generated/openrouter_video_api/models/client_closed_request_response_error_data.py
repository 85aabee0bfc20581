from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.client_closed_request_response_error_data_metadata_type_0 import (
        ClientClosedRequestResponseErrorDataMetadataType0,
    )


T = TypeVar("T", bound="ClientClosedRequestResponseErrorData")


@_attrs_define
class ClientClosedRequestResponseErrorData:
    """Error data for ClientClosedRequestResponse

    Example:
        {'code': 499, 'message': 'Client closed request'}

    Attributes:
        code (int):
        message (str):
        metadata (ClientClosedRequestResponseErrorDataMetadataType0 | None | Unset):
    """

    code: int
    message: str
    metadata: ClientClosedRequestResponseErrorDataMetadataType0 | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.client_closed_request_response_error_data_metadata_type_0 import (
            ClientClosedRequestResponseErrorDataMetadataType0,  # noqa: PLC0415
        )

        code = self.code

        message = self.message

        metadata: dict[str, Any] | None | Unset
        if isinstance(self.metadata, Unset):
            metadata = UNSET
        elif isinstance(self.metadata, ClientClosedRequestResponseErrorDataMetadataType0):
            metadata = self.metadata.to_dict()
        else:
            metadata = self.metadata

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "message": message,
            }
        )
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.client_closed_request_response_error_data_metadata_type_0 import (
            ClientClosedRequestResponseErrorDataMetadataType0,  # noqa: PLC0415
        )

        d = dict(src_dict)
        code = d.pop("code")

        message = d.pop("message")

        def _parse_metadata(data: object) -> ClientClosedRequestResponseErrorDataMetadataType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                metadata_type_0 = ClientClosedRequestResponseErrorDataMetadataType0.from_dict(data)

                return metadata_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ClientClosedRequestResponseErrorDataMetadataType0 | None | Unset, data)

        metadata = _parse_metadata(d.pop("metadata", UNSET))

        client_closed_request_response_error_data = cls(
            code=code,
            message=message,
            metadata=metadata,
        )

        client_closed_request_response_error_data.additional_properties = d
        return client_closed_request_response_error_data

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
