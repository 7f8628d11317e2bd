package probe

import (
	"context"
	"fmt"
	"strings"

	"github.com/shirou/gopsutil/v4/sensors"

	"wowlab/node/policy"
)

// Thermometer reads the CPU temperature through gopsutil's sensors: hwmon
// and thermal zones on Linux, the SMC or HID sensors on macOS, ACPI thermal
// zones through WMI on Windows (which often needs administrator rights).
type Thermometer struct{}

// CPUTemperature returns the hottest CPU sensor, in degrees Celsius.
func (Thermometer) CPUTemperature(ctx context.Context) (float64, error) {
	stats, err := sensors.TemperaturesWithContext(ctx)
	if t, ok := hottestCPU(stats); ok {
		return t, nil // partial readings come with warnings; a CPU sensor among them is enough
	}
	if err != nil {
		return 0, fmt.Errorf("%w: cannot read temperature sensors: %v", policy.ErrUnavailable, err)
	}
	return 0, fmt.Errorf("%w: no CPU temperature sensor", policy.ErrUnavailable)
}

// hottestCPU picks the highest plausible reading of a CPU sensor.
func hottestCPU(stats []sensors.TemperatureStat) (float64, bool) {
	best, found := 0.0, false
	for _, s := range stats {
		if s.Temperature <= 0 || s.Temperature > 150 { // unset keys read 0; nonsense reads huge
			continue
		}
		if !isCPUSensor(s.SensorKey) {
			continue
		}
		if !found || s.Temperature > best {
			best, found = s.Temperature, true
		}
	}
	return best, found
}

// isCPUSensor tells the CPU's sensors by name: Linux hwmon drivers
// (coretemp for Intel, k10temp and zenpower for AMD, x86_pkg_temp, and the
// cpu and soc thermal zones of ARM boards), macOS SMC keys TC* (CPU diode
// and proximity) and Apple silicon die sensors (tdie, the "MTR" cluster
// sensors), and Windows ACPI thermal zones.
func isCPUSensor(key string) bool {
	if strings.HasPrefix(key, "TC") && len(key) == 4 { // macOS SMC CPU keys such as TC0P
		return true
	}
	k := strings.ToLower(key)
	for _, s := range [...]string{"coretemp", "k10temp", "zenpower", "cpu", "x86_pkg_temp", "soc", "package", "tctl", "tdie", "mtr temp", "thermalzone", "acpitz"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
