"""What every cursor-paginated API list shares."""

from config.numbers import number_parameter


class StrictPageSize:
    """A page_size that is not a whole number from 1 to the maximum is a 400, not ignored."""

    def get_page_size(self, request):
        return number_parameter(
            request.query_params, self.page_size_query_param, default=self.page_size, low=1, high=self.max_page_size
        )

    def get_schema_operation_parameters(self, view):
        """Declare the bounds the server enforces on page_size."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters
