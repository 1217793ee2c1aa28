from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination as _PageNumberPagination


class PageNumberPagination(_PageNumberPagination):
    """`?page=&page_size=` (default 50, at most 200), answering `{count, next, previous, results}`.

    A page past the end answers 404, as DRF does. A `page` or `page_size` that is not a
    positive whole number, is empty, or is given twice answers 400 naming it: DRF reads
    `?page=` and `?page=2&page=` as page 1, so a client's bug would pass for a result.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page: {self.page_size} unless given, at most {self.max_page_size}."
                )
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        _positive_whole_number(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        _positive_whole_number(request, self.page_size_query_param)
        return super().get_page_size(request)


def _positive_whole_number(request, name: str) -> None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    if values and not (values[0].isascii() and values[0].isdigit() and int(values[0]) > 0):
        raise ValidationError({name: ["A positive whole number is required."]})
