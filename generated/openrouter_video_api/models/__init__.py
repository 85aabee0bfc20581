"""Contains all the data models used in inputs/outputs"""

from .bad_gateway_response import BadGatewayResponse
from .bad_gateway_response_error_data import BadGatewayResponseErrorData
from .bad_gateway_response_error_data_metadata_type_0 import BadGatewayResponseErrorDataMetadataType0
from .bad_gateway_response_openrouter_metadata_type_0 import BadGatewayResponseOpenrouterMetadataType0
from .bad_request_response import BadRequestResponse
from .bad_request_response_error_data import BadRequestResponseErrorData
from .bad_request_response_error_data_metadata_type_0 import BadRequestResponseErrorDataMetadataType0
from .bad_request_response_openrouter_metadata_type_0 import BadRequestResponseOpenrouterMetadataType0
from .internal_server_response import InternalServerResponse
from .internal_server_response_error_data import InternalServerResponseErrorData
from .internal_server_response_error_data_metadata_type_0 import InternalServerResponseErrorDataMetadataType0
from .internal_server_response_openrouter_metadata_type_0 import InternalServerResponseOpenrouterMetadataType0
from .not_found_response import NotFoundResponse
from .not_found_response_error_data import NotFoundResponseErrorData
from .not_found_response_error_data_metadata_type_0 import NotFoundResponseErrorDataMetadataType0
from .not_found_response_openrouter_metadata_type_0 import NotFoundResponseOpenrouterMetadataType0
from .unauthorized_response import UnauthorizedResponse
from .unauthorized_response_error_data import UnauthorizedResponseErrorData
from .unauthorized_response_error_data_metadata_type_0 import UnauthorizedResponseErrorDataMetadataType0
from .unauthorized_response_openrouter_metadata_type_0 import UnauthorizedResponseOpenrouterMetadataType0

__all__ = (
    "BadGatewayResponse",
    "BadGatewayResponseErrorData",
    "BadGatewayResponseErrorDataMetadataType0",
    "BadGatewayResponseOpenrouterMetadataType0",
    "BadRequestResponse",
    "BadRequestResponseErrorData",
    "BadRequestResponseErrorDataMetadataType0",
    "BadRequestResponseOpenrouterMetadataType0",
    "InternalServerResponse",
    "InternalServerResponseErrorData",
    "InternalServerResponseErrorDataMetadataType0",
    "InternalServerResponseOpenrouterMetadataType0",
    "NotFoundResponse",
    "NotFoundResponseErrorData",
    "NotFoundResponseErrorDataMetadataType0",
    "NotFoundResponseOpenrouterMetadataType0",
    "UnauthorizedResponse",
    "UnauthorizedResponseErrorData",
    "UnauthorizedResponseErrorDataMetadataType0",
    "UnauthorizedResponseOpenrouterMetadataType0",
)
