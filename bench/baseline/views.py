"""The product list with its authentication, permissions and throttling taken away."""

from rest_framework.permissions import AllowAny

from inventory.api.views import ProductViewSet


class OpenProductViewSet(ProductViewSet):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()


product_list = OpenProductViewSet.as_view({"get": "list"})
