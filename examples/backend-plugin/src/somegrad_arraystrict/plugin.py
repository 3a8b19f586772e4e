"""The entry point module: somegrad calls this hook to learn which backends the plugin has."""

import somegrad


@somegrad.hookimpl
def somegrad_register_backends(register):
    # Registering must stay cheap: the backend module (and array_api_strict) load in the factory.
    def factory():
        from somegrad_arraystrict.backend import ArrayStrictBackend

        return ArrayStrictBackend()

    register("arraystrict", device_type="strict", factory=factory)
